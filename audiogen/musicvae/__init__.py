"""MusicVAE: a recurrent VAE over monophonic melodies (2-bar flat, 16-bar hierarchical)."""
