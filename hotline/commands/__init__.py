"""Flask CLI command groups beyond the basics in `hotline.cli`."""
