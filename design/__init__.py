"""Design search (Optuna): the design space, constraints and proposals.  Filled by the design issue."""

__all__: list[str] = []
