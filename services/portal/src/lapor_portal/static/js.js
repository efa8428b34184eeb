/* Loaded (not deferred) in the head of the pages with a map: the page knows at once that the
   script runs, so the map's place is kept from the first paint instead of pushing the page
   down when the map appears (everything in it stays hidden when scripts do not run). */
document.documentElement.classList.add("js");
