"""``python -m octobot_trading`` runs the command-line interface."""

from octobot_trading.cli import main

raise SystemExit(main())
