"""One module per API area, each exporting `bp`; only those listed in BLUEPRINTS load."""
