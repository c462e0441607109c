/* The sandbox theme's variant picker, like Dawn's: updates the price, the buy button and the URL,
   and lets the change event bubble (apps listen to it). */
document.addEventListener('change', (e) => {
  const select = e.target;
  if (select.id !== 'variant-select') return;
  const option = select.selectedOptions[0];
  document.querySelector('[data-price]').textContent = option.dataset.price;
  document.querySelector('.buy').disabled = option.dataset.available !== 'true';
  const url = new URL(location.href);
  url.searchParams.set('variant', select.value);
  history.replaceState(null, '', url);
});
