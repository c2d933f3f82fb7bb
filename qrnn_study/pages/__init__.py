"""The analysis each book page shows, one module a page, as library functions tested on every shape the
profiles produce (one seed or several, fewer or more epochs than the original's logs, unfinished seeds,
a protocol missing). A notebook in ``notebooks/`` is its parameters, calls to these and prose."""
