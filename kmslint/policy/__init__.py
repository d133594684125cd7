"""Policy semantics, written once and used by every rule."""
