"""Sources: where raw input comes from (a folder of files, a remote feed)."""
