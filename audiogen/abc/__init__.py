"""Char-LSTM over ABC notation: vocab, model, data, train, generate, render, evaluate."""
