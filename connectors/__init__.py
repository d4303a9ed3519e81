"""Platform adapters (X, Facebook Pages, Instagram). They never import social_care."""
