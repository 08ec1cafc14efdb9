"""ABC notation, apart from any model: the bar reader that checks a tune's meter as abc2midi
does, the meter mask that keeps sampled bars in meter, and tune headers, names and fingerprints.
Below `data/` in the layers, so readers and builders may use it."""
