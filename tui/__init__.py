"""sagewiz user interfaces: the Textual wizard and the Rich headless CLI. They drive core only."""
