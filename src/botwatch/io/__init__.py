"""Readers that turn flow records of every supported format into one table."""
