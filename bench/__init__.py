"""Benchmarks, run as scripts (`python bench/NAME.py`); a package so that bench/sinks.py is not mistaken for sinks/."""
