//! Evaluates the support-intent classifier on the held-out fifth of the labelled set (the
//! figure in the README), with per-intent precision and recall and the confusion matrix, and
//! 5-fold cross-validation over the whole set.
//!
//!     cargo run --release -p orderflow --example intent_eval

use orderflow::lifecycle::support::intent::{
    Classifier, Example, Intent, TRAINING_SET, evaluate, examples, split,
};

fn main() {
    let all = examples(TRAINING_SET).unwrap_or_else(|e| panic!("{e}"));
    let (train, test) = split(&all);
    let started = std::time::Instant::now();
    let model = Classifier::train(&train);
    let trained_in = started.elapsed();
    let (accuracy, confusion) = evaluate(&model, &test);
    println!(
        "labelled set: {} messages, {} intents; held out {} (trained on {} in {:.0} ms)",
        all.len(),
        Intent::ALL.len(),
        test.len(),
        train.len(),
        trained_in.as_secs_f64() * 1000.0
    );
    println!("held-out accuracy: {:.1} %", accuracy * 100.0);
    println!(
        "\n{:<20} {:>9} {:>7} {:>4}",
        "intent", "precision", "recall", "n"
    );
    for (i, intent) in Intent::ALL.iter().enumerate() {
        let tp = confusion[i][i] as f64;
        let predicted: u32 = confusion.iter().map(|row| row[i]).sum();
        let actual: u32 = confusion[i].iter().sum();
        println!(
            "{:<20} {:>8.1}% {:>6.1}% {:>4}",
            intent.as_str(),
            100.0 * tp / f64::from(predicted.max(1)),
            100.0 * tp / f64::from(actual.max(1)),
            actual
        );
    }
    println!("\nconfusion (rows: truth, columns: predicted, in the order above)");
    for row in &confusion {
        println!(
            "  {}",
            row.iter()
                .map(|n| format!("{n:>3}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    // 5-fold cross-validation: every example is tested once by a model that never saw it.
    let folds = 5;
    let mut right = 0.0;
    for k in 0..folds {
        let tr: Vec<Example> = (0..all.len())
            .filter(|i| i % folds != k)
            .map(|i| all[i].clone())
            .collect();
        let te: Vec<Example> = (0..all.len())
            .filter(|i| i % folds == k)
            .map(|i| all[i].clone())
            .collect();
        let (acc, _) = evaluate(&Classifier::train(&tr), &te);
        right += acc * te.len() as f64;
    }
    println!(
        "\n5-fold cross-validated accuracy: {:.1} %",
        100.0 * right / all.len() as f64
    );
    // How sure it is when right and when wrong: the auto-reply threshold rests on this.
    let mut by_band = [(0u32, 0u32); 5];
    for e in &test {
        let c = model.classify(&e.text);
        let band = ((c.confidence.clamp(0, 99)) / 20) as usize;
        by_band[band].0 += 1;
        if c.intent == e.intent {
            by_band[band].1 += 1;
        }
    }
    println!("\nconfidence band → held-out messages, accuracy");
    for (i, (n, ok)) in by_band.iter().enumerate() {
        if *n > 0 {
            println!(
                "  {:>3}–{:>3} %: {:>3}, {:.1} %",
                i * 20,
                i * 20 + 19,
                n,
                100.0 * f64::from(*ok) / f64::from(*n)
            );
        }
    }
}
