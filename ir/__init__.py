"""ir: breach incident response orchestrator and drill simulator."""

__version__ = "0.1.0"
