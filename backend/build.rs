//! Builds the admin UI (`frontend/`, Leptos rendered in the browser) to WebAssembly and binds it
//! for the browser, so that building the server — `cargo run`, `cargo test`, the Dockerfile —
//! yields one binary that serves its own UI. The UI is compiled by a nested cargo in a target
//! directory of its own (a cargo holds its target directory locked), always optimised for size,
//! and only again when its sources change.

use std::env;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() -> Result<(), Box<dyn Error>> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let ui = manifest
        .parent()
        .ok_or("the backend has no parent directory")?
        .join("frontend");
    for watched in ["src", "Cargo.toml", "Cargo.lock", "index.html", "style.css"] {
        println!("cargo:rerun-if-changed={}", ui.join(watched).display());
    }
    let out = PathBuf::from(env::var("OUT_DIR")?).join("ui");
    std::fs::create_dir_all(&out)?;
    ensure_target()?;
    let target_dir = ui_target_dir()?;
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--release", "--locked", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(ui.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    // What cargo set for this build script describes the host build, not the UI's: flags for
    // the host, clippy as the compiler wrapper, the outer target directory.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CLIPPY_ARGS",
        "CLIPPY_CONF_DIR",
    ] {
        build.env_remove(var);
    }
    let status = build.status()?;
    if !status.success() {
        return Err(format!("building the admin UI ({}) failed: {status}", ui.display()).into());
    }
    let wasm = target_dir
        .join(WASM_TARGET)
        .join("release")
        .join("orderflow-ui.wasm");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name("app")
        .web(true)?
        .typescript(false)
        .generate(&out)?;
    Ok(())
}

/// The UI's own target directory beside the server's: `<target>/ui`. OUT_DIR is
/// `<target>[/<triple>]/<profile>/build/<package>-<hash>/out`.
fn ui_target_dir() -> Result<PathBuf, Box<dyn Error>> {
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let profile_dir = out
        .ancestors()
        .nth(3)
        .ok_or("OUT_DIR is not inside a target directory")?;
    let mut target = profile_dir
        .parent()
        .ok_or("OUT_DIR is not inside a target directory")?;
    // Under `--target <triple>` the profile directory sits one level deeper.
    if env::var("TARGET").ok() != env::var("HOST").ok()
        && let Some(up) = target.parent()
    {
        target = up;
    }
    Ok(Path::new(target).join("ui"))
}

/// Installs the WebAssembly target through rustup when it is missing: the run command must
/// need nothing installed by hand beyond the Rust toolchain.
fn ensure_target() -> Result<(), Box<dyn Error>> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc).args(["--print", "sysroot"]).output()?;
    let sysroot = String::from_utf8(sysroot.stdout)?;
    let installed = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .exists();
    if installed {
        return Ok(());
    }
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .map_err(|e| {
            format!("the admin UI needs the {WASM_TARGET} target and rustup to add it: {e}")
        })?;
    if !status.success() {
        return Err(format!("`rustup target add {WASM_TARGET}` failed: {status}").into());
    }
    Ok(())
}
