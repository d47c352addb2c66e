"""Running algorithms on a scenario and reporting what they did: tables, files and plots."""
