export { type ClassScores, type NeuronVote, neuronVotes, scoreClasses } from './neuron-votes.js';
