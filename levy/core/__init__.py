"""The levy core: pure functions of their inputs, standard library only, time passed in."""
