"""Two-agent envs for several policies trained together: a coordination game and a competitive duel (self-play)."""
