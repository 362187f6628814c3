module github.com/faultline-sim/faultline/scripts/mutate

go 1.26.8
