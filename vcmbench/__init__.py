"""vcmbench: MPEG Video/Feature Coding for Machines benchmarking toolkit.

The library never prints and never exits; ``vcmbench.cli`` is the only module that does.
"""

__version__ = "0.1.0"

# Bumped with every change that can move a published number (CHANGELOG "Results-affecting").
RESULTS_VERSION = "0.2.0"
