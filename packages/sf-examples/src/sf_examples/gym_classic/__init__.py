"""Gymnasium classic control (CartPole-v1, Acrobot-v1, Pendulum-v1) with tuned defaults."""
