"""Where a result came from: the commit is "-dirty" for a changed source file, never for the study's outputs."""

import subprocess

from qrnn_core.provenance import git_commit


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_outputs_written_into_the_tree_leave_the_commit_clean_and_code_does_not(tmp_path):
    for folder in ("results/paper/run", "book/generated/paper", "qrnn_core"):
        (tmp_path / folder).mkdir(parents=True)
    files = ["results/paper/run/metrics.json", "book/generated/paper/summary.ipynb", "qrnn_core/train.py"]
    for f in files:
        (tmp_path / f).write_text("0")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    head = git_commit(tmp_path / "qrnn_core")
    assert len(head) == 40
    for f in files[:2]:  # a re-run writes its results and pages
        (tmp_path / f).write_text("1")
    assert git_commit(tmp_path / "qrnn_core") == head
    (tmp_path / files[2]).write_text("1")
    assert git_commit(tmp_path / "qrnn_core") == head + "-dirty"
