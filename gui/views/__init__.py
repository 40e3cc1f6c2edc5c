"""The explorer's panels: images, plots, parameters, problem and solver settings."""
