"""FIMA Explorer's bundled data (sample images, blur kernels, trained weights), shipped as package data.

Nothing to import here: code finds these files through :func:`core.resources.resources_dir`.
README.md in this folder gives each file's provenance and licence.
"""
