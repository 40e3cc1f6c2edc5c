"""The explorer's dialogs: export, files, help, memory shortfall, slow run, preferences."""
