"""No tables: a regime is configuration (regimes/config/*.toml, FANGPIN_REGIMES_DIR), and each decision
stores the code of the regime it was taken under on its own row (Case.regime, Clue.regime, …)."""
