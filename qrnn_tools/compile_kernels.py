"""Compile the study's numba kernels into their cache once, at install (``make install`` runs it).

``python -m qrnn_tools.compile_kernels``: each engine path the study trains with (the noiseless kernel
and the noisy one, each with SPSA, FDSA and the adjoint gradient) runs one short
training on 4 qubits, so that numba writes every compiled function to its cache (``cache=True``, next
to the sources: :func:`qrnn_core.kernel._ensure_cache_dir`). Later processes load the machine code
instead of compiling it: on a fresh clone the tests and the study's first notebooks otherwise compile
the same functions in several processes at once (about a minute of CPU on 2 cores). Nothing is kept
but the cache; a second run only loads it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

#: One short training per engine path, in two groups that compile different modules (the noiseless kernel;
#: the noisy forward and adjoint), run side by side on two cores.
GROUPS = (({"method": "spsa", "shots": 64}, {"method": "fdsa"}, {"method": "exact"}),
          ({"method": "spsa", "shots": 64, "noise_device": "FakeMarrakesh"}, {"method": "fdsa", "noise_device": "FakeMarrakesh"},
           {"method": "exact", "noise_device": "FakeMarrakesh"}))
PATHS = tuple(p for group in GROUPS for p in group)


def _train_each(paths: tuple[dict, ...]) -> None:
    """One short training per path (1 epoch, 2 windows, 4 qubits, a 40-step validation), results discarded."""
    from qrnn_core.train import TrainConfig, train

    for path in paths:
        with tempfile.TemporaryDirectory() as out:
            train(TrainConfig(epochs=1, train_sequences=2, val_steps=40, n_qubits=4, val_shots=64, **path), out,
                  progress=False, log=lambda *_: None)


def compile_kernels(log=print) -> float:
    """Run every path of :data:`GROUPS`, a Python process per group, side by side; the seconds taken.

    Separate interpreters, not a process pool: forked pool workers of one parent compiled one after the
    other here (53 s against 40 s for two fresh processes, on 2 cores)."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "qrnn_tools.compile_kernels", "--group", str(k)])
             for k in range(len(GROUPS))]
    failed = [k for k, p in enumerate(procs) if p.wait() != 0]
    if failed:
        raise RuntimeError(f"compiling the kernels failed in group(s) {failed} (their tracebacks are above)")
    seconds = time.perf_counter() - t0
    log(f"numba kernels compiled and cached ({len(PATHS)} engine paths, {seconds:.0f} s)")
    return seconds


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--group":
        _train_each(GROUPS[int(sys.argv[2])])
    else:
        compile_kernels()
