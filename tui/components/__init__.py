"""Widgets and screens of the wizard, one per module."""
