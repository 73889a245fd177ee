package dnsbl

import "sync"

// dispatchPool runs dispatch for the targets of a run on at most n goroutines,
// started as the targets find all of them busy (a small run starts few), and
// each kept for the next target. A new goroutine for each target would grow
// its stack to the depth of a query's send every time (in a bulk run about 3%
// of the engine's CPU); a kept one grows it once.
type dispatchPool struct {
	work    chan *targetState
	do      func(*targetState)
	n, busy int // the most goroutines, and those started
	wg      sync.WaitGroup
}

func newDispatchPool(n int, do func(*targetState)) *dispatchPool {
	return &dispatchPool{work: make(chan *targetState), do: do, n: max(n, 1)}
}

// submit hands ts to an idle goroutine, starting one if none is idle and
// fewer than n run, or else waits for one to finish its target.
func (p *dispatchPool) submit(ts *targetState) {
	select {
	case p.work <- ts:
		return
	default:
	}
	if p.busy < p.n {
		p.busy++
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for ts := range p.work {
				p.do(ts)
			}
		}()
	}
	p.work <- ts
}

// wait returns once every submitted target is dispatched; the goroutines end.
func (p *dispatchPool) wait() {
	close(p.work)
	p.wg.Wait()
}
