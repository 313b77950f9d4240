"""Apache Beam pipelines: run from their own venv (beam/requirements-beam.txt), never deployed with the functions."""
