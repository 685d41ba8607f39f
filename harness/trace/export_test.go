package trace

// Parse exports parse to the fuzz test.
var Parse = parse
