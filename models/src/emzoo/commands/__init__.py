"""One module per ``emzoo`` subcommand (see emzoo.cli)."""
