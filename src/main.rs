use std::process::ExitCode;

fn main() -> ExitCode {
    edgepub::cli::main()
}
