"""crisiswatch: brand-crisis monitoring for Chinese social media."""
