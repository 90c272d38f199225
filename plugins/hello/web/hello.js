// Console page of the hello example plugin: lists the greetings.
export default async function render(root, api) {
  const data = await api.get('/api/v1/hello/greetings');
  const list = document.createElement('ul');
  for (const g of data.greetings) {
    const li = document.createElement('li');
    li.textContent = `${g.id}: ${g.name}`;
    list.append(li);
  }
  root.replaceChildren(list);
}
