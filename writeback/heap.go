package writeback

import "container/heap"

// itemHeap orders items by NextAttempt, earliest first, and keeps each
// item's index current.
type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }

func (h itemHeap) Less(i, j int) bool {
	return h[i].rec.NextAttempt.Before(h[j].rec.NextAttempt)
}

func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

// Push and Pop are for container/heap only; use update, remove and pop.
func (h *itemHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}

func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.index = -1
	return it
}

// update inserts it, or moves it after its NextAttempt changed.
func (h *itemHeap) update(it *item) {
	if it.index >= 0 {
		heap.Fix(h, it.index)
		return
	}
	heap.Push(h, it)
}

// remove takes it out, if it is in.
func (h *itemHeap) remove(it *item) {
	if it.index >= 0 {
		heap.Remove(h, it.index)
	}
}

// pop removes and returns the earliest item.
func (h *itemHeap) pop() *item { return heap.Pop(h).(*item) }

// init restores the order after many NextAttempt changes.
func (h *itemHeap) init() { heap.Init(h) }
