"""Exchange connectors: ``ccxt`` (live venues) and ``simulator`` (paper trading, backtests)."""

__all__: list[str] = []
