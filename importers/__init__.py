"""Readers of real-world data formats (one module per source), landing every series on one hourly UTC grid."""
