"""social-care: answer every customer who mentions the brand, with a human approving each reply."""
