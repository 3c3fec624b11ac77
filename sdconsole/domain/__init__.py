"""Pure core of sdconsole: values, rules and arithmetic; no database, UI or network."""
