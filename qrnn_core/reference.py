"""The deck's published numbers (the course project's slides this study reproduces), typed once, here only.

Everything else in the study is measured; these are what the measurements are compared with.
"""

#: Seconds per update and hours per epoch (1,384 updates, projected) as the deck reports them.
SECONDS_PER_UPDATE = {"SPSA, CPU": 1.2, "FDSA, GPU": 18.0, "FDSA, CPU": 39.58}
HOURS_PER_EPOCH = {"SPSA, CPU": 1.0, "FDSA, GPU": 8.0, "FDSA, CPU": 14.5}
MACHINES = {"CPU": "Apple M3 Max", "GPU": "2 x NVIDIA A100"}

#: Validation RMSE per epoch (1-based): (y, z, mean) where saved, else the mean only.
VAL_RMSE = {
    "spsa": {1: (0.0944, 0.1367, 0.1156), 2: (0.0931, 0.1353, 0.1142), 3: (0.1029, 0.1346, 0.1187),
             4: (None, None, 0.1255), 5: (None, None, 0.1270), 6: (None, None, 0.1288),
             7: (None, None, 0.1280), 8: (None, None, 0.1277), 9: (None, None, 0.1256),
             10: (None, None, 0.1268)},
    "fdsa": {2: (0.0994, 0.1403, 0.1198), 3: (0.0964, 0.1393, 0.1179), 4: (0.0967, 0.1390, 0.1178),
             5: (None, None, 0.1180), 6: (None, None, 0.1192), 7: (None, None, 0.1209),
             8: (None, None, 0.1274), 9: (None, None, 0.1354), 10: (None, None, 0.1449)},
}
#: The deck's "lowest RMSE observed" (metric not stated; SPSA's matches its best y RMSE).
LOWEST_RMSE = {"spsa": 0.09, "fdsa": 0.11}
#: First-epoch train RMSE per update, roughly: (start, end).
FIRST_EPOCH_TRAIN_RMSE = {"spsa": (0.36, 0.08), "fdsa": (0.46, 0.07)}
LEARNING_RATE = {"spsa": 0.007, "fdsa": 0.001}
SHOTS = 1024
UPDATES_PER_EPOCH = 1384


def original_log(method: str) -> dict[int, tuple[float, float, float]]:
    """The original code's logged validation RMSE (y, z, mean) per epoch of the runs the deck plots.

    SPSA: the 10-epoch run (``spsa_last_val_rmse.npy``); FDSA: the server run, epochs 2..10
    (``fdsa_val_rmse.npy``). Numbers from the original's files (``data/original/``), not the deck's text.
    """
    from pathlib import Path

    import numpy as np

    folder = Path(__file__).resolve().parent.parent / "data" / "original"
    if method == "spsa":
        rows, first = np.load(folder / "spsa_last_val_rmse.npy"), 1
    elif method == "fdsa":
        rows, first = np.load(folder / "fdsa_val_rmse.npy"), 2
    else:
        raise ValueError(f"the original logged validation RMSEs of spsa and fdsa only, not {method!r}")
    return {first + k: tuple(float(v) for v in row) for k, row in enumerate(rows)}
