"""Reading authored files: YAML with positions, problems that teach, durations.

The scenario and policy-pack loaders both build on this package; it imports
nothing else of the harness, so neither loader has to import the other.
"""
