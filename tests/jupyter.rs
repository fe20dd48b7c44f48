//! The notebook tests with the Jupyter project's own tools (`tests/jupyter/`): jupyter_kernel_test's
//! suite against the kernel and nbclient executing every notebook in `examples/notebooks/`, run by
//! `scripts/jupyter-tests.sh` against this build's binary. The script makes the virtual environment it
//! needs (`scripts/python-env.sh`); without Python this test fails, loudly, rather than skip.

#[test]
fn jupyter_reference_tools_accept_the_kernel_and_the_notebooks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    let output = std::process::Command::new("bash")
        .arg(root.join("scripts/jupyter-tests.sh"))
        .env("KALEIDO_BIN", env!("CARGO_BIN_EXE_kaleido"))
        .output()
        .expect("bash runs");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the Jupyter tests failed:\n{report}");
    assert!(report.contains("OK"), "{report}");
}
