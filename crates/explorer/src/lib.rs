//! A static, self-contained neuron explorer written from an experiment's results.
