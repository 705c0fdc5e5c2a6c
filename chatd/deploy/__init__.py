"""A real deployment: the production profile, the files an operator installs, and `chatd check`."""
