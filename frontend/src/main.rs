//! Orderflow's admin UI: Leptos, rendered in the browser, over the same GraphQL API integrators
//! use. The backend's build script compiles it to WebAssembly and `orderflow serve` serves it.

mod api;
mod app;
mod fmt;
mod live;
mod pages;
mod session;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
