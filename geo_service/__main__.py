"""``python -m geo_service`` runs the CLI."""

from geo_service.cli import main

raise SystemExit(main())
