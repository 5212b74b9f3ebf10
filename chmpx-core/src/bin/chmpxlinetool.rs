//! chmpxlinetool: interactive control tool of chmpx clusters (see `chmpx_core::linetool`).

fn main() {
    let code = chmpx_core::linetool::tool::main(std::env::args().collect());
    std::process::exit(code);
}
