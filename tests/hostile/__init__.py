"""Hostile input: every class of input the study accepts, each refused or repaired in one line, with the
exit status asserted and nothing lost or written where it should not be. Fast: tiny configs, in-process
calls, a subprocess only where the exit status of the command itself is the point."""
