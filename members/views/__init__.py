"""Pages of the members app: public enrollment and the member portal."""
