//! Prints the generated session for a seed, one entry per line: `cargo run -p kaleido-interp --example
//! show_session -- SEED`. Handy to read what the differential test runs, or to turn a seed into a test.

fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    for entry in kaleido_interp::generate::Generator::new(seed).session(8) {
        println!("{entry}");
    }
}
